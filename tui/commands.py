"""The ``tssg-crm`` subcommands (registered with :func:`tui.cli.command`)."""
