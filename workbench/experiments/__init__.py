"""The comparison grid (pipeline x n x seed), its results store, and the runner that resumes."""
