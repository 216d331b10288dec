import threading
import time

from index.rwlock import ReadWriteLock


def test_readers_share_and_writer_excludes():
    lock = ReadWriteLock()
    inside: list[str] = []
    max_readers = 0
    readers_now = 0
    guard = threading.Lock()

    def reader():
        nonlocal readers_now, max_readers
        with lock.read():
            with guard:
                readers_now += 1
                max_readers = max(max_readers, readers_now)
                assert "writer" not in inside
            time.sleep(0.05)
            with guard:
                readers_now -= 1

    def writer():
        with lock.write():
            with guard:
                assert readers_now == 0
                inside.append("writer")
            time.sleep(0.02)
            with guard:
                inside.remove("writer")

    threads = [threading.Thread(target=reader) for _ in range(4)]
    threads += [threading.Thread(target=writer) for _ in range(2)]
    threads += [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert not any(t.is_alive() for t in threads)
    assert max_readers >= 2


def test_waiting_writer_blocks_new_readers():
    lock = ReadWriteLock()
    order: list[str] = []
    first_reader_in = threading.Event()
    release_first = threading.Event()

    def first_reader():
        with lock.read():
            first_reader_in.set()
            release_first.wait(2)
            order.append("r1")

    def writer():
        with lock.write():
            order.append("w")

    def late_reader():
        with lock.read():
            order.append("r2")

    t1 = threading.Thread(target=first_reader)
    t1.start()
    first_reader_in.wait(2)
    tw = threading.Thread(target=writer)
    tw.start()
    time.sleep(0.05)  # the writer is now waiting
    t2 = threading.Thread(target=late_reader)
    t2.start()
    time.sleep(0.05)
    release_first.set()
    for t in (t1, tw, t2):
        t.join(2)
    assert order == ["r1", "w", "r2"]


def test_a_reader_told_to_give_up_steps_aside_for_the_writer():
    lock = ReadWriteLock()
    give_up = threading.Event()
    outcome: list[bool] = []

    def reader():
        with lock.read_unless(give_up, poll_s=0.01) as held:
            outcome.append(held)

    with lock.write():
        thread = threading.Thread(target=reader)
        thread.start()
        time.sleep(0.05)
        assert not outcome  # waiting for the writer
        give_up.set()
        thread.join(5)  # returns while the write lock is still held
        assert outcome == [False]
    with lock.read_unless(threading.Event()) as held:  # free: granted at once
        assert held
        with lock.read():  # shared with other readers
            pass
