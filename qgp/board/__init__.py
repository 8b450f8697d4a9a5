"""The network on a board: the UART protocol (``protocol``), the host client (``host``, the
``qgp run`` command), the board simulation behind a pseudo-terminal (``sim``, ``qgp board-sim``)
and the bitstream build (``build``, ``make board``). docs/BOARD.md describes all of it."""
