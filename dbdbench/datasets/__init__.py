"""Dataset adapters. Built-ins are registered through the same plugin hook as third-party ones."""

from .base import Dataset, Listing, Sample, files_by_stem, pair_images_and_gt, read_stem_list

__all__ = ["Dataset", "Listing", "Sample", "files_by_stem", "pair_images_and_gt", "read_stem_list"]
