"""One module of sizes and helpers per notebook, named after the notebook
(``05_pokemon_lstm.ipynb`` → ``coursekit.topics.pokemon_lstm``).
"""
