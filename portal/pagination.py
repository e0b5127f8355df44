"""How long a list page is, in the portal and in the staff admin (one number for all lists;
the pages share ``templates/portal/_pagination.html``)."""

PAGE_SIZE = 50
