"""The captured graph as plain data: records, the grad_fn walk, collapsed modules, repeated
blocks, diffs between graphs, tensor summaries."""
