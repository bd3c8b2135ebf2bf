"""The search-as-you-type box: an :class:`~textual.widgets.Input` tuned so that a keystroke
and the hits for its text reach the screen in one frame, in well under 16 ms.

Two things stood between a key and its hits on the screen:

* **A layout for every key.** Textual's Input sets its virtual (scrollable) width on every
  change of its value, and ``Widget.virtual_size`` is a reactive that asks for a layout: a
  reflow of the whole screen, ~5 ms. A box with a fixed size can't move anything else by
  holding more or less text, so here the virtual width is still kept (scrolling to the
  cursor reads it) but asks for no layout. (An ``auto``-sized Input asks for its own layout
  when its value changes, so it stays right.)
* **Two frames for every key.** The echo of the key was drawn at once, and Textual's screen
  update timer, once it has ticked, waits for its next tick plus one more period before the
  next frame: the hits, ready 3-5 ms after the key, waited 8-16 ms for a frame at 120 fps.
  With ``hold`` set, the box holds the screen's updates from a keystroke until
  :meth:`SearchBox.results_shown` (the screen has put the hits for the newest text on it) or
  ``hold`` seconds have passed, whichever is first: the echo and the hits are drawn
  together, in the first tick. A search slower than ``hold`` shows the echo on time and its
  hits when they come, as before.
"""

from __future__ import annotations

from textual.app import ScreenStackError
from textual.geometry import Size
from textual.reactive import Reactive
from textual.timer import Timer
from textual.widgets import Input


class SearchBox(Input):
    # the same reactive as Widget.virtual_size (same name, same storage), without layout=True
    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)

    def __init__(self, *args: object, hold: float = 0.0, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.hold = hold
        self._held: Timer | None = None  # the deadline of the hold in force

    def watch_value(self) -> None:
        if self.hold and self._held is None and self.is_mounted:
            # App.delay_update's batch, ended early by results_shown
            self.app._begin_batch()
            self._held = self.app.set_timer(self.hold, self.results_shown, name="search-hold")

    def results_shown(self) -> None:
        """The screen shows what the box's text asked for (or nothing needs to wait)."""
        if self._held is None:
            return
        self._held.stop()
        self._held = None
        self.app._end_batch()
        try:
            self.app.screen.check_idle()  # the box's own echo may be the only thing to draw
        except ScreenStackError:  # the app is closing
            pass

    def on_unmount(self) -> None:
        self.results_shown()
