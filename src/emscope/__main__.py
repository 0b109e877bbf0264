from emscope.cli import app

app()
