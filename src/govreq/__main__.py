from govreq.cli import main

main()
