"""`python -m rnnloss_cli` runs the command line, as the console script does."""

from rnnloss_cli.entry import main

if __name__ == "__main__":
    main()
