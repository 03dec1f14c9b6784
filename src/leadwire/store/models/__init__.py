"""leadwire's own tables (flows, connections, leads, runs): the app store.

Each noun has its module here; importing this package registers all of them on `AppBase`.
"""

from leadwire.store.models.base import AppBase

__all__ = ["AppBase"]
