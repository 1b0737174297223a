"""The data layer: corpora, tasks, readers, vocabulary, nested subsets, the registry and cache."""
