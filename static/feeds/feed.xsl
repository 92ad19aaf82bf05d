<?xml version="1.0" encoding="utf-8"?>
<!-- Shows an RSS or Atom feed as a page in a browser: what it is, how to
     subscribe, and its latest items. Feed readers ignore it. -->
<xsl:stylesheet version="1.0"
  xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
  xmlns:atom="http://www.w3.org/2005/Atom">
  <xsl:output method="html" encoding="utf-8" doctype-system="about:legacy-compat"/>

  <xsl:variable name="title" select="/rss/channel/title | /atom:feed/atom:title"/>

  <xsl:template match="/">
    <html lang="en">
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <meta name="color-scheme" content="light dark"/>
        <title><xsl:value-of select="$title"/> (feed)</title>
        <link rel="stylesheet" href="/static/css/site.css"/>
      </head>
      <body>
        <main id="content" class="container site-main">
          <div class="page-header">
            <h1><xsl:value-of select="$title"/></h1>
          </div>
          <section class="feed-about" aria-labelledby="subscribe-heading">
            <h2 id="subscribe-heading" class="section-heading">This is a news feed</h2>
            <p>Copy this page's address into a feed reader (such as NetNewsWire, Feedly,
              Thunderbird or Inoreader) to get new articles as they are published.
              Nothing to install here: your reader checks the feed for you.</p>
            <p><a href="{/rss/channel/link | /atom:feed/atom:link[not(@rel) or @rel='alternate']/@href}">Back to the site</a></p>
          </section>
          <section aria-labelledby="latest-heading">
            <h2 id="latest-heading" class="section-heading">Latest in this feed</h2>
            <ol class="search-results">
              <xsl:apply-templates select="/rss/channel/item | /atom:feed/atom:entry"/>
            </ol>
          </section>
        </main>
      </body>
    </html>
  </xsl:template>

  <xsl:template match="item">
    <li class="search-result">
      <h3 class="card-title"><a href="{link}"><xsl:value-of select="title"/></a></h3>
      <p class="meta"><xsl:value-of select="pubDate"/></p>
    </li>
  </xsl:template>

  <xsl:template match="atom:entry">
    <li class="search-result">
      <h3 class="card-title"><a href="{atom:link/@href}"><xsl:value-of select="atom:title"/></a></h3>
      <p class="meta"><xsl:value-of select="atom:updated"/></p>
    </li>
  </xsl:template>
</xsl:stylesheet>
