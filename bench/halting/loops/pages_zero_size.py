# call: count_pages(50, 0)
# why: a page size of 0 leaves offset at 0, so offset < total stays true while pages keeps growing.
def count_pages(total, page_size):
    offset = 0
    pages = 0
    while offset < total:
        pages += 1
        offset += page_size
    return pages
