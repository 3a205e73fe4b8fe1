"""The compression toolkit: masks at every granularity, pruning schedules, weight sharing, Huffman coding,
sparse encodings, TTQ, DSD, the Deep Compression pipeline and hardware-aware training.

Modules (import the one you need; none imports a simulator or a particular cost model):
``masks``, ``pruning``, ``loop``, ``training``, ``baseline``, ``sharing``, ``huffman``, ``encoding``,
``export``, ``ttq``, ``dsd``, ``ladder``, ``deep_compression``, ``pipelines``, ``hwaware``, ``bridge``,
``hwtrain``, ``checkpoint``.
"""
