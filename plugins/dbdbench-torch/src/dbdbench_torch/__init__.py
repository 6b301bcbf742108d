"""Shared torch machinery of dbdbench's learned methods (training loop, DDP, checkpoints, weights, inference).

Nothing here is imported by the dbdbench core or at plugin import time: method plugins import these
modules inside their ``predict``/``train`` functions, so ``dbdbench --help`` never loads torch.
"""

__version__ = "0.1.0"
