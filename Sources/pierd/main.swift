print("pierd")
