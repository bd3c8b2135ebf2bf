"""The Textual user interface and the ``tssg-crm`` command line."""
