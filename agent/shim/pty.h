/* `grove-shim pty`: runs a command on a new pseudo-terminal, relaying it to pipes (see pty.c). */
#ifndef GROVE_PTY_H
#define GROVE_PTY_H

int pty_main(int argc, char **argv);

#endif
