"""How an ID number and a mobile number look when they leave a service masked: in every
reply, list, export and log line. One place, so that no two views of a record can be
laid side by side to undo each other."""

ID_STARS = 11
PHONE_STARS = 4
CARD_SHOWN = 2  # characters shown at each end of a preferential card number


def mask_id_number(id_number):
    """The division code (first six characters) and the check character only:
    ``652301***********1``. Positions 7-14 are the birth date every card shows and 15-17
    the sequence whose last digit is the gender every card shows; hiding the date alone
    (the old ``652301********1231``) left a number anyone could rebuild from a card. With
    birth date and gender known about 45 numbers still fit this mask."""
    if not id_number:
        return id_number
    return f"{id_number[:6]}{'*' * ID_STARS}{id_number[-1:]}"


def mask_phone(phone):
    """The first three and last four digits: ``138****5678``; None stays None."""
    if not phone:
        return phone
    return f"{phone[:3]}{'*' * PHONE_STARS}{phone[-4:]}"


def mask_card_number(number):
    """A preferential-treatment card number (优待证号; its national format was not found):
    like the ID number, only its ends show, ``YD**********12``: the first and last two
    characters, never more than a third of it; None stays None."""
    if not number:
        return number
    shown = min(CARD_SHOWN, len(number) // 3)
    head, tail = number[:shown], number[len(number) - shown :] if shown else ""
    return f"{head}{'*' * (len(number) - 2 * shown)}{tail}"
