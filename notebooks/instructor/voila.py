# Voila settings for `make present` (the Makefile points Voila here with
# --Voila.config_file_paths=notebooks/instructor).
#
# Every page that shows the panels has its own kernel (about 120 MB). A page
# reloaded or a tab closed leaves it running, so the server culls kernels
# that have had no page connected and no message for two minutes. A page
# that stays open keeps its kernel however long the class talks
# (cull_connected is False), and a kernel still training is never culled
# (cull_busy is False). tests/browser/test_present.py checks both.
c.MappingKernelManager.cull_idle_timeout = 120  # seconds without a message
c.MappingKernelManager.cull_interval = 30  # how often to look
c.MappingKernelManager.cull_connected = False
c.MappingKernelManager.cull_busy = False
