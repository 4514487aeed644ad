from rbactool.cli import main

main()
