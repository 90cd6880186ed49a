"""Small pieces every ui room uses: actions and menus, themes, file dialogs."""
