// InftopTUI: canvas, widgets, panels, themes, keymap; ncurses only in NCursesTerminal.swift.
