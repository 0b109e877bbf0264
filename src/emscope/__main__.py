from emscope.cli import main

main()
