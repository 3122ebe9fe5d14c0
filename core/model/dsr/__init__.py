"""DSR (Zavrtanik, Kristan, Skočaj, ECCV 2022): the second model, issue 15."""
