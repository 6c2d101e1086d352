"""rltnet: radioligand therapy delivery."""

__version__ = "0.1.0"
