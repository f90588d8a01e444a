"""Record linkage: exact and probabilistic matching of records across datasets."""
