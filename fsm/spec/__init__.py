"""The machine as declared: YAML -> a validated, immutable spec; the ladder's params; diagrams from it."""
