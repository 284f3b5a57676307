"""Where and how the demo computes: the pipeline of one image and its translations (cached), the two
model adapters, the LRU caches, and the lanes (threads) the computations run on."""
