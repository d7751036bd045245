import PierCLI

Pier.runMain()
