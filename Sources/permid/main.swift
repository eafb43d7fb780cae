print("permidd")
