from articles.summary import key_points, split_sentences

TEXT = """The river Lune burst its banks in Marrowby on Tuesday night, flooding the old town.
About 1,200 residents were evacuated from homes near the river as the water rose.
Mayor Ilse Varga said the evacuation of Marrowby went smoothly and thanked volunteers.
A bakery on Quay Street handed out bread to people waiting at the shelter.
Forecasters expect the Lune to fall by Thursday, but warned that more rain is due.
The flooding in Marrowby is the worst since records began, the river authority said."""


def test_three_central_sentences_in_reading_order():
    points = key_points(TEXT)
    assert len(points) == 3
    sentences = split_sentences(TEXT)
    assert [sentences.index(point) for point in points] == sorted(
        sentences.index(point) for point in points
    )
    assert points[0].startswith("The river Lune burst")
    assert not any("bakery" in point for point in points)


def test_short_texts_give_what_they_have():
    assert key_points("Too short.") == []
    assert key_points("One sentence that is long enough to count as a point.") == [
        "One sentence that is long enough to count as a point."
    ]
