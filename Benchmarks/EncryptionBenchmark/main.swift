print("not yet implemented: see the open issue")
