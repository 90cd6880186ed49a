"""Qt-free: torch, networkx and Graphviz work, plain immutable data out."""
