"""From a graph to a picture: style and labels, DOT text, the Graphviz engine, layouts
(cached, lazy, spliced) and what is drawn."""
