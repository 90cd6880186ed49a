"""Built-in example models; each file follows the model-file conventions in the README."""
