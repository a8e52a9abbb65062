from openhotline.cli import main

main()
