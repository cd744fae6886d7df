"""hopscreen: high-throughput screening of ionic migration barriers in battery materials."""

__version__ = "0.1.0"
