"""``rtdbd``: Zhang & Yan (ECCV 2020) real-time deep defocus blur detection, as a dbdbench plugin."""

__version__ = "0.1.0"
