Feature: Fees come off the top before the split
  The operator's distribution fee is a percentage; a model vendor's licence
  is a rate per stream, optionally capped at a share of the line.

  Background:
    Given the label "rust-label" with these contributions to "USRW12600001":
      | party          | role         | weight |
      | rust           | producer     |        |
      | jukebox-vendor | model_vendor |        |
    And the agreement "walk-my-walk" for "USRW12600001" from 2026-10 with the split sheet:
      | party      | role     | share |
      | rust       | producer | 60%   |
      | rust-label | label    | 40%   |

  Scenario: The distribution fee is taken before the split
    Given a fee "distribution-fee" of 15% to "rust-label"
    When a line of 1000.00 USD for "USRW12600001" from "Spotify" in "US" as "stream" in 2026-10 is split
    Then the parts are:
      | party      | role     | kind  | amount |
      | rust-label | label    | fee   | 150.00 |
      | rust       | producer | share | 510.00 |
      | rust-label | label    | share | 340.00 |
    And the parts add up to the line

  Scenario: A licence fee per stream
    Given a fee "voice-licence" of 0.0001 USD per stream to "jukebox-vendor"
    When a line of 1000.00 USD with 250000 units for "USRW12600001" from "Spotify" in "US" as "stream" in 2026-10 is split
    Then "jukebox-vendor" gets 25.00
    And "rust" gets 585.00

  Scenario: A capped licence fee per stream
    Given a fee "voice-licence" of 0.0001 USD per stream to "jukebox-vendor" capped at 5%
    When a line of 100.00 USD with 250000 units for "USRW12600001" from "Spotify" in "US" as "stream" in 2026-10 is split
    Then "jukebox-vendor" gets 5.00
    And "rust" gets 57.00
    And the parts add up to the line

  Scenario: Fees are taken in the order written
    Given a fee "distribution-fee" of 10% to "rust-label"
    And a fee "voice-licence" of 0.0001 USD per stream to "jukebox-vendor"
    When a line of 100.00 USD with 100000 units for "USRW12600001" from "Spotify" in "US" as "stream" in 2026-10 is split
    Then the parts are:
      | party          | role         | kind  | amount |
      | rust-label     | label        | fee   | 10.00  |
      | jukebox-vendor | model_vendor | fee   | 10.00  |
      | rust           | producer     | share | 48.00  |
      | rust-label     | label        | share | 32.00  |
