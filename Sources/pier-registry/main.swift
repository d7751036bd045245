print("pier-registry: not built yet")
