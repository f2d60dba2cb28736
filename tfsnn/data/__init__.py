"""Datasets by name: preparation (once, into a data folder) and loading with the run's augmentation.

- ``registry.py``: the datasets by name (``DATASETS``, with the table of them) and ``prepare_dataset``;
- ``loading.py``: ``load_data``, a run's train/val/test :class:`Data` from any registered dataset;
- ``parts.py``: :class:`Parts`, what every dataset's reader hands to ``load_data``;
- readers: ``cifar.py``, ``fashion.py`` (in memory, through ``images.py``), ``imagenet.py``, ``dvs.py``
  (event cameras), ``audio.py`` (SHD, SSC), ``seqmnist.py``;
- offline stand-ins in the real formats: ``standins.py``, ``event_standins.py``.
"""
from .images import ImageDataset
from .loading import Data, load_data
from .registry import DATASETS, DatasetSpec, dataset_spec, prepare_dataset

__all__ = ["DATASETS", "Data", "DatasetSpec", "ImageDataset", "dataset_spec", "load_data", "prepare_dataset"]
