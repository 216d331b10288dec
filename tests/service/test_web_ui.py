"""The web page in headless Chromium (Debian's ``chromium`` + ``chromium-driver``, which
``make browser`` installs): ask the seed question, see the streamed answer and a
highlighted passage; summarize pasted text; upload a file. Screenshots of desktop and
phone widths go to ``test-artifacts/``."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.schemas import SEED_QUESTION
from tests.conftest import REPO_ROOT, missing_component
from tests.service.live import live_server  # noqa: F401  (session fixture)

ARTIFACTS = REPO_ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


@pytest.fixture(autouse=True)
def _needs_chromium() -> None:
    if not (CHROMIUM and DRIVER):
        missing_component(
            "headless Chromium is not installed: run `make browser` "
            "(apt-get install chromium chromium-driver)"
        )


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,1000",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _wait(driver, condition, timeout: float = 120):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(condition)


def _shot(driver, name: str, width: int, height: int) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    driver.set_window_size(width, height)
    path = ARTIFACTS / name
    driver.save_screenshot(str(path))
    return path


def test_ask_streams_an_answer_with_highlighted_passages(browser, live_server) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.set_window_size(1280, 1000)
    browser.get(live_server.url + "/")
    assert browser.find_element(By.CSS_SELECTOR, "html").get_attribute("lang") == "vi"
    box = browser.find_element(By.ID, "question")
    assert browser.find_element(By.CSS_SELECTOR, "label[for=question]").text == "Câu hỏi"
    box.send_keys(SEED_QUESTION, Keys.ENTER)

    _wait(
        browser,
        lambda d: (
            d.find_element(By.ID, "answer").get_attribute("aria-busy") == "false"
            and d.find_element(By.ID, "answer").text
        ),
    )
    answer = browser.find_element(By.ID, "answer")
    assert "yêu cầu Công an tỉnh" in answer.text
    assert answer.get_attribute("aria-live") == "polite"
    cites = answer.find_elements(By.CSS_SELECTOR, "a.cite")
    assert cites and cites[0].get_attribute("href").split("#")[1].startswith("passage-")
    marks = browser.find_elements(By.CSS_SELECTOR, "#passages li mark")
    assert len(marks) == 5
    assert any("yêu cầu Công an tỉnh" in m.text for m in marks)
    assert browser.find_element(By.ID, "answer-status").text == ""
    _shot(browser, "web-ask-desktop.png", 1280, 1000)
    _shot(browser, "web-ask-phone.png", 390, 844)
    browser.execute_script("document.getElementById('passages-card').scrollIntoView()")
    _shot(browser, "web-passages-phone.png", 390, 844)
    browser.set_window_size(1280, 1000)


def test_summarize_view_and_upload(browser, live_server, tmp_path: Path) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(live_server.url + "/")
    tab = browser.find_element(By.ID, "tab-ask")
    tab.send_keys(Keys.ARROW_RIGHT)  # keyboard navigation between the views
    assert browser.find_element(By.ID, "tab-summarize").get_attribute("aria-selected") == "true"
    assert browser.find_element(By.ID, "view-ask").get_attribute("hidden") is not None

    text = (
        "Miền Bắc đón đợt không khí lạnh mạnh từ đêm nay. Nhiệt độ thấp nhất ở vùng núi "
        "xuống 8 độ C. Trung tâm Dự báo khí tượng thủy văn khuyến cáo người dân giữ ấm. "
        "Các trường học được phép cho học sinh nghỉ khi nhiệt độ dưới 10 độ C."
    )
    browser.find_element(By.ID, "summarize-text").send_keys(text)
    browser.find_element(By.CSS_SELECTOR, "#summarize-form button").click()
    _wait(browser, lambda d: d.find_element(By.ID, "summary-meta").text)
    summary = browser.find_element(By.ID, "summary").text
    assert summary.startswith("Miền Bắc đón đợt không khí lạnh")
    _shot(browser, "web-summarize-desktop.png", 1280, 1000)

    browser.set_window_size(1280, 1000)
    browser.find_element(By.ID, "tab-upload").click()
    upload = tmp_path / "ret-dam.txt"
    upload.write_text(
        " date 2025-11-28 " + text + "\n\nTác giả: Lan Anh\nNguồn tin: thoitiet.vn\n",
        encoding="utf-8",
    )
    browser.find_element(By.ID, "upload-file").send_keys(str(upload))
    browser.find_element(By.CSS_SELECTOR, "#upload-form button").click()
    _wait(browser, lambda d: "Đã nạp" in d.find_element(By.ID, "upload-result").text)
    assert "Đã nạp 1 bài" in browser.find_element(By.ID, "upload-result").text
    runtime = live_server.runtime
    stored = [
        a for a in runtime.index.list_articles(offset=0, limit=50)[0] if a.source == "thoitiet.vn"
    ]
    assert len(stored) == 1 and stored[0].date == "2025-11-28"
    runtime.index.delete_article(stored[0].id)  # keep the shared server's index as it was


def test_the_page_asks_for_an_api_key_only_when_the_server_wants_one(browser, make_runtime) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    from index.article_files import load_articles
    from tests.conftest import SEED_ARTICLE
    from tests.service.live import serving

    runtime = make_runtime(api_keys="k-web-page-key-1:read")
    runtime.index.add_articles(list(load_articles(SEED_ARTICLE)))
    with serving(runtime) as server:
        browser.set_window_size(1280, 1000)
        browser.get(server.url + "/")
        browser.execute_script("localStorage.clear()")
        browser.refresh()
        assert not browser.find_element(By.ID, "key-panel").is_displayed()
        browser.find_element(By.ID, "question").send_keys(SEED_QUESTION, Keys.ENTER)
        _wait(browser, lambda d: d.find_element(By.ID, "key-panel").is_displayed())
        assert browser.switch_to.active_element.get_attribute("id") == "api-key"
        browser.find_element(By.ID, "api-key").send_keys("k-web-page-key-1", Keys.ENTER)
        _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#passages li mark"))
        assert not browser.find_element(By.ID, "key-panel").is_displayed()
        assert (
            browser.execute_script("return localStorage.getItem('vnqa-api-key')")
            == "k-web-page-key-1"
        )
        browser.execute_script("localStorage.clear()")
