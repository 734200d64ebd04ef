from lifelong.models.generator import StopCutter


def feed(stops, pieces):
    cutter = StopCutter(stops)
    out = [cutter.feed(p) for p in pieces]
    return [p for p in out + [cutter.flush()] if p], cutter.stopped


def test_a_stop_string_split_across_pieces_is_held_back_and_cut():
    assert feed(["END"], ["Hello E", "N", "D and more"]) == (["Hello "], True)


def test_a_false_start_is_released_once_it_cannot_be_a_stop():
    assert feed(["END"], ["Hello E", "ast", " wing"]) == (["Hello ", "East", " wing"], False)


def test_the_earliest_of_several_stops_wins_and_text_without_stops_passes():
    assert feed(["\n", "Q:"], ["a Q: b\nc"]) == (["a "], True)
    assert feed([], ["a", "b"]) == (["a", "b"], False)
