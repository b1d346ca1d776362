# The plugin's own tests: they use the installed plugin (entry point pytest11),
# and pytester for runs of their own (a second session, a second emulator).
pytest_plugins = ["pytester"]
