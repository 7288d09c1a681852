"""The example quizzes and schema.json, shipped inside the wheel as ``server.example_quizzes``."""
