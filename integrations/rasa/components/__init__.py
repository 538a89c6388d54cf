"""Custom Rasa graph components. Imported inside Rasa's own Python 3.10 environment, so this package
must depend on nothing but Rasa, SudachiPy and the standard library."""
