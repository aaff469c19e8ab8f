"""`make bench`: the no-op cost of site.yml against the lab (python -m tests.bench; docs/performance.md)."""
