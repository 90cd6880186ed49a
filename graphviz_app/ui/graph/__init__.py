"""The graph on screen: scene, node and edge items, the view, overview map, legends,
colour-by, find."""
