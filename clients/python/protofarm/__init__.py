"""protofarm's Python client: start a farm of scripted fake servers, drive it through its control
API, and (with pytest) check its expect: section after each test. See README.md."""

from .farm import EventStream, Farm, ProtofarmError, Response, parse_metrics

__all__ = ["EventStream", "Farm", "ProtofarmError", "Response", "parse_metrics"]
__version__ = "0.1.0"
