"""The workspace's pages, a module per part of the work."""
