print("infinigen")
