# Types of the names graphviz_app/__init__.py imports lazily (module __getattr__).
from graphviz_app.api.drawing import Drawing as Drawing
from graphviz_app.api.drawing import draw as draw
from graphviz_app.api.show import show as show
from graphviz_app.api.walkthrough import Walkthrough as Walkthrough
from graphviz_app.api.walkthrough import walkthrough as walkthrough
from graphviz_app.api.watch import Watch as Watch
from graphviz_app.api.watch import WatchRecord as WatchRecord
from graphviz_app.api.watch import watch as watch

__version__: str
__all__: list[str]
